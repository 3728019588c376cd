{
  "algorithm": "ed25519",
  "format": "underwriting.registry.signature",
  "key_id": "2fa94212330f86bc",
  "signature": "AkpnqnO1uejx9SYg1zmLOI2fp+hC1LLVfnJ4/L3dqS6Sq5gYRfuXH4Bu/7N5pufuna0qV6x1q+cXMVOVPbt4Ag=="
}
