{
  "algorithm": "ed25519",
  "format": "underwriting.registry.signature",
  "key_id": "0512e82c445cfc8f",
  "signature": "fYeKBogK8GLiCg6hZ5lZUBeEwP1KVzfDioj46jPJzsWbU8XQQi7n0NztKf1cRpALCvuHhYKmcf2BE6//gAh8Bw=="
}
