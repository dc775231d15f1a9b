"""Configuration: typed settings built once at start-up."""
