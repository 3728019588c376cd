{
  "algorithm": "ed25519",
  "format": "underwriting.registry.signature",
  "key_id": "0512e82c445cfc8f",
  "signature": "8McXRpxxM/N+RRA0QJn+RXbkbVJkq+y2HtAwt91D+HgWu7ORHpCP4tZ1x8aengeu7vrlr4NH2qRFOjyGkGp8AQ=="
}
