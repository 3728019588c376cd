{
  "algorithm": "ed25519",
  "format": "underwriting.registry.signature",
  "key_id": "0512e82c445cfc8f",
  "signature": "oJm2LAd+q/ris53dm6jh+wO6e+4KUcI9vml0zatce+sJ4Wz18G7lv+vBazF/2axm4e/mf/IrgBORGsdd1kQNDA=="
}
