"""Other systems hear what happens: webhooks signed as the Standard Webhooks specification says."""
