"""The SQL seam: typed ORM schema, engines for SQLite and PostgreSQL, and the four stores."""
