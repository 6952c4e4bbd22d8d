"""Transit pages: the post (quick entry, head counts), permits and cards, public card
verification, the overstay list, corridors and journeys."""
