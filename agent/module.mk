# agent: filled in by its component
