{
  "algorithm": "ed25519",
  "format": "underwriting.registry.signature",
  "key_id": "7040b41d1262b5df",
  "signature": "YqOVG4HzzojGfU/GKit5Pp1KFAAf/CZR55Pbd9FFKy68/IYi2T54S74s7g7CYPNmfZJilEPaGFw0SCI8BLbrBQ=="
}
