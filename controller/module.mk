# controller: filled in by its component
