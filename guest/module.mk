# guest: filled in by the guest component
