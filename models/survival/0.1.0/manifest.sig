{
  "algorithm": "ed25519",
  "format": "underwriting.registry.signature",
  "key_id": "7040b41d1262b5df",
  "signature": "Fm/0RAoInR89japSie18R80OJzTzyPbNakgCQETzM3fVQ7kKH8P073opYMTXXOdQ0Ca8xg6XbGsfXDKuMADmBQ=="
}
