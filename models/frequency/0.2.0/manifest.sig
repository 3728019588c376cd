{
  "algorithm": "ed25519",
  "format": "underwriting.registry.signature",
  "key_id": "2fa94212330f86bc",
  "signature": "zhyZxPbwAxYXgC3wRfDGjmX4n2OQ6rvsOS+n05ZBa32ThTPC7uaUJXDoT5SYrXru2f/y5BdwYXF0clsYgXw+CQ=="
}
