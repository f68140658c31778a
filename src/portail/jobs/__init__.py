"""Scheduled jobs (billing drafts, waiting-list offers, reminders, SEPA files, retention) and the
leader election that lets one scheduler act at a time. Every job is idempotent and writes through
the application layer as `Contexte.systeme(<job name>)`."""
