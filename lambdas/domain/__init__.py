"""Pure records and rules of the image management system: no I/O, no AWS, no environment."""
