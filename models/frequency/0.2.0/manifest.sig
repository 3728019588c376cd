{
  "algorithm": "ed25519",
  "format": "underwriting.registry.signature",
  "key_id": "2fa94212330f86bc",
  "signature": "GxoRTF8XFRs+tudo3pSfk2Ur3BmdTR39jUoTiBWUolHSGX0YZKea8dhfDRcllZWev11fcFyhmYQ1hjJgWtE8Cw=="
}
