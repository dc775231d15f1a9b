"""The command line: a thin layer over the server and its HTTP APIs."""
