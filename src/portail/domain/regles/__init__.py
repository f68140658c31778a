"""Business rules as pure functions over configuration and facts."""
