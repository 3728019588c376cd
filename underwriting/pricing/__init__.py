"""Policy terms and premiums.

::

    from underwriting.pricing.layers import Layer
    from underwriting.pricing.premium import price_layer, price_perils, Loadings
"""
