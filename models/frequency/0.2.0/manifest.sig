{
  "algorithm": "ed25519",
  "format": "underwriting.registry.signature",
  "key_id": "2fa94212330f86bc",
  "signature": "vzVbreqmEjJoAKylLisJAQor11dFEnCzjjmrtpJcAxVixzc75gAdNkFHdoqM98bMLWuoeJzCNOcrNNvsUtFLBA=="
}
