-- A drop's waiting room as its sale ended, rolled up with the sale: the longest line, the buyers
-- admitted and those of them who bought (passes used), and the median wait in whole seconds.
-- NULL for a drop without a room, or whose room kept no record of the sale (an in-process room
-- restarted since); the median also while nobody was admitted.
ALTER TABLE drop_sales ADD COLUMN room_peak_waiting BIGINT;
ALTER TABLE drop_sales ADD COLUMN room_admitted BIGINT;
ALTER TABLE drop_sales ADD COLUMN room_used BIGINT;
ALTER TABLE drop_sales ADD COLUMN room_median_wait_seconds BIGINT;
