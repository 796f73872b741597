# lib: filled in by its component
