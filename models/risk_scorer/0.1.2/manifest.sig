{
  "algorithm": "ed25519",
  "format": "underwriting.registry.signature",
  "key_id": "0512e82c445cfc8f",
  "signature": "BFtsn4b0i2UsO95YjS3ppBIxM1kqMq2yCUrOlAQEw1TfTpSjTqY7hTWD8Vs+SpxNAk9r4SAebX5q63J5b5+HDQ=="
}
