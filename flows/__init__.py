"""Tool scripts and templates of the synthesis flows (data; see README.md)."""
