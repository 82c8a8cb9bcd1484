"""The generals.io bot bridge: our agents play on a generals.io bot server over its socket.io protocol.

``protocol`` (events, payloads, diff patching), ``translate`` (server views to our observations,
our actions to attacks), ``encode`` (our engine's state as a server describes it), ``client`` (the
bot loop) and ``testing`` (a local server on loopback that plays with our engine).
"""
