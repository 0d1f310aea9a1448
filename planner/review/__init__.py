"""What the municipality reviews: patrol coverage (``coverage``), the effect of patrolling on
crime (``effect``), what capacity a ward needs (``capacity``), follow-up agreements
(``agreements``), the printable report (``report``) and the model card and DPIA (``modelcard``).
Domain layer, the highest: it may use everything below it."""
