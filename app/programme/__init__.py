"""The programme: venues, kinds of event, and the forums and training sessions themselves."""
