"""The run store (plain files on disk) and the recorder experiments report through."""
