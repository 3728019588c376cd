{
  "algorithm": "ed25519",
  "format": "underwriting.registry.signature",
  "key_id": "0512e82c445cfc8f",
  "signature": "eEulx1/HX7QNX0btb+dVqcrXKMll17ln/nmnaagfksUdV/MIwfi8FnpTI5JuxWne+Rs6KfP3mbABMG5TdeOoDg=="
}
