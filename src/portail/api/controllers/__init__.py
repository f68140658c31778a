"""One controller module per part of the contract."""
