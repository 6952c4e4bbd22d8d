"""People's rights over their data (ARCO): the request register and the services that answer
access, rectification, cancellation (blocking, then erasure) and opposition requests.

``services`` is the one entry point (DESIGN.md rule 1); ``export`` builds the subject access
export; ``blocking`` says who is blocked; ``privacy.erasure`` removes a person's data from
every copy and leaves a tombstone.
"""
