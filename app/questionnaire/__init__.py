"""The Early Years Safeguarding Questionnaire: questions, settings' responses, and the evidence
(forum attendance for Q13, training for Q6 and Q7) that the service holds for them."""
