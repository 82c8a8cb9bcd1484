"""Test helpers that ship with the package: fakes of the services' peers (``fakes``)."""
