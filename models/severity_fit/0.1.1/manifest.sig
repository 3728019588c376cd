{
  "algorithm": "ed25519",
  "format": "underwriting.registry.signature",
  "key_id": "0512e82c445cfc8f",
  "signature": "PvFeiMrfozmd4UzdjxOI9egGrl/WkqFZ/OLbkHNev9udDc6JgJvRXRGsBqeH8UujW/VLcpCfdIfzaJKAxUFVCw=="
}
