"""The web console under /console (placeholder until it lands)."""
