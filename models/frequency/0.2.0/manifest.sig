{
  "algorithm": "ed25519",
  "format": "underwriting.registry.signature",
  "key_id": "2fa94212330f86bc",
  "signature": "b+kdd+3oIPf6zSRegi6x5qt+WtXcZ701EZYA0mb3OpHSKmVvzAJbE7xccmqKwkdnSR03j4oqr8y/nBo81ghhCw=="
}
