# The customer pages arrive with the portal issue; the addon already installs with the chain so
# that databases set up today get them through a plain module update.
