"""The operations: each reads the KB through a store view and lands its changes through Store.change.

    add/       files, folders, URLs and PageIndex Cloud documents
    doctor     checks of the store and the wiki, and repair
    inspect    status and listing
    settings   the KB's config

Nothing here imports from kb.py or a front end: data flows down, from front ends to kb to here to store/.
"""
