# tests: filled in by its component
