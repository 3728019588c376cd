{
  "algorithm": "ed25519",
  "format": "underwriting.registry.signature",
  "key_id": "7040b41d1262b5df",
  "signature": "fg6zy4oaCJ7ve5n259RNI1rAiNtCFvOTu9SIbC28QvAamDeDcV2TDUj5WI2OFhxU4kA//J1gn+4NANSBscbeDA=="
}
