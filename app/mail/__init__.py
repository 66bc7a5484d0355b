"""Email: the outbox written in the transaction of each change, and the sender that delivers it."""
