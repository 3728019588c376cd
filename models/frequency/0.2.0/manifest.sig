{
  "algorithm": "ed25519",
  "format": "underwriting.registry.signature",
  "key_id": "2fa94212330f86bc",
  "signature": "E5jJo5zoJ8jvNQu8tx1mTnq5Wp+YUXImjml+zwx3Tdum0NbTm0O7AqjFyyjcM349CE7UcF4aRWY7R5w+13jfAA=="
}
