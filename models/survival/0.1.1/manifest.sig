{
  "algorithm": "ed25519",
  "format": "underwriting.registry.signature",
  "key_id": "7040b41d1262b5df",
  "signature": "kL3MP5DOHKYwN4tN/tFqBhXzq3ysge4kVog/z8Vl4paSUzLs/vKv/0tRbKTv6W7dPWzZtLuN3GZS3o6OJ8wrCQ=="
}
