{
  "algorithm": "ed25519",
  "format": "underwriting.registry.signature",
  "key_id": "7040b41d1262b5df",
  "signature": "nRKi98ovgJWB5vcQ+vdzfg8sqPduqQI5hLd3j+m9COYeD3stE6FCEMY9o0/YoYEs+KW2odwwR0JVNo5GWY+cAg=="
}
