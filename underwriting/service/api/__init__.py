"""The ``/v1`` API as one router per resource (quotes, pricing, reserve, models, ledger, keys, schemas),
their shared authentication and body handling (:mod:`.common`) and request/response models
(:mod:`.contracts`)."""
