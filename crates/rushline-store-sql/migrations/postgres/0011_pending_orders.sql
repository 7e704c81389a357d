-- A buyer may have only so many orders awaiting payment (orders.max_pending_per_buyer): every
-- order is counted in the group commit, and a checkout before the gate too, from this
-- index, whatever the buyer's history.
CREATE INDEX orders_pending_buyer ON orders (buyer_id) WHERE status = 'pending_payment';
