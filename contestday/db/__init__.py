"""The database kernel: engine, column types, the group-commit writer, prepared statements, migrations."""
