# Pure helpers (encoding, segments, number checks) live in tools/; the channel itself arrives
# with the SMS issue.
