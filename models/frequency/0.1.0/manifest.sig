{
  "algorithm": "ed25519",
  "format": "underwriting.registry.signature",
  "key_id": "7040b41d1262b5df",
  "signature": "miCIzCjygrMuKKmhhkLZ4oMDVOzitdezuvFE+WbMZxqEIDEF10RRGl9BRyfj1Gk2xd+WjrF9PUYqmJY2eNUBAA=="
}
