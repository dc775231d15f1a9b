"""SQL files of the SQL backends."""
