-- Every write, once committed, takes the next value of this sequence and
-- sends it with its notification (store/pg/run.c): the data version. An
-- instance that has heard version N has seen every write up to N, so a
-- client that reads after its own write elsewhere can ask for it
-- (X-Insights-Min-Version) and never be served an older cached answer.
CREATE SEQUENCE insights_data_version;
