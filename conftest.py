import os

os.environ.setdefault("ENMIENDA_TESTING", "1")
