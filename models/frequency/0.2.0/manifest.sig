{
  "algorithm": "ed25519",
  "format": "underwriting.registry.signature",
  "key_id": "2fa94212330f86bc",
  "signature": "LSWaZzmZO4I6bwVZpcamZPeA4nGRjRWxi3ETlDPWC41MFydBZHoaZcZwXTrF7hlG15mVnGamBfVgXe6MtEHGDA=="
}
