"""Alembic migrations for Accord's database (a package so installers ship the files)."""
