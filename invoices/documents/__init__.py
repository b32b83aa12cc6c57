"""The vocabulary of Alegra documents that every layer speaks.

`numbers` (reading and writing exact numbers), `references` (ids, the invoice number),
`contacts` (the editable fields of a contact and its PUT body), `status` (stamped, void).
One definition of each, so two parts of the portal never disagree on what a value means.
"""
